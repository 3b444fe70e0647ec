-- The schema revision 0003 left in SQLite before tables had a prefix
-- (made by `referrals migrate` of commit 7f7f85b), with a few users.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE users (
	id INTEGER NOT NULL,
	phone VARCHAR(16) NOT NULL,
	invite_code VARCHAR(6) NOT NULL,
	referrer_id INTEGER,
	used_invite_code VARCHAR(6),
	referral_rank INTEGER,
	referred_count INTEGER DEFAULT '0' NOT NULL,
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
	referred_at DATETIME, created_by VARCHAR(32),
	CONSTRAINT pk_users PRIMARY KEY (id),
	CONSTRAINT uq_users_phone UNIQUE (phone),
	CONSTRAINT uq_users_invite_code UNIQUE (invite_code),
	CONSTRAINT fk_users_referrer_id_users FOREIGN KEY(referrer_id) REFERENCES users (id) ON DELETE RESTRICT,
	CONSTRAINT ck_users_ck_users_not_own_referrer CHECK (referrer_id <> id),
	CONSTRAINT ck_users_ck_users_referral_complete CHECK ((referrer_id IS NULL) = (referral_rank IS NULL) AND (referrer_id IS NULL) = (used_invite_code IS NULL)),
	CONSTRAINT ck_users_ck_users_referred_count_positive CHECK (referred_count >= 0)
);
CREATE UNIQUE INDEX ix_users_referrer_id_referral_rank ON users (referrer_id, referral_rank);
INSERT INTO alembic_version (version_num) VALUES ('0003');
