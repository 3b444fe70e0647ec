-- The schema revision 0003 left in PostgreSQL before tables had a prefix
-- (pg_dump of what `referrals migrate` of commit 7f7f85b made).
CREATE TABLE alembic_version (
    version_num character varying(32) NOT NULL
);
CREATE TABLE users (
    id bigint NOT NULL,
    phone character varying(16) NOT NULL,
    invite_code character varying(6) NOT NULL,
    referrer_id bigint,
    used_invite_code character varying(6),
    referral_rank integer,
    referred_count integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    referred_at timestamp with time zone,
    created_by character varying(32),
    CONSTRAINT ck_users_ck_users_not_own_referrer CHECK ((referrer_id <> id)),
    CONSTRAINT ck_users_ck_users_referral_complete CHECK ((((referrer_id IS NULL) = (referral_rank IS NULL)) AND ((referrer_id IS NULL) = (used_invite_code IS NULL)))),
    CONSTRAINT ck_users_ck_users_referred_count_positive CHECK ((referred_count >= 0))
);
CREATE SEQUENCE users_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE users_id_seq OWNED BY users.id;
ALTER TABLE ONLY users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass);
ALTER TABLE ONLY alembic_version ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);
ALTER TABLE ONLY users ADD CONSTRAINT pk_users PRIMARY KEY (id);
ALTER TABLE ONLY users ADD CONSTRAINT uq_users_invite_code UNIQUE (invite_code);
ALTER TABLE ONLY users ADD CONSTRAINT uq_users_phone UNIQUE (phone);
CREATE UNIQUE INDEX ix_users_referrer_id_referral_rank ON users USING btree (referrer_id, referral_rank);
ALTER TABLE ONLY users ADD CONSTRAINT fk_users_referrer_id_users FOREIGN KEY (referrer_id) REFERENCES users(id) ON DELETE RESTRICT;
INSERT INTO alembic_version (version_num) VALUES ('0003');
