"""The settings' defaults, for tests that build adapters by hand: adapters
have no defaults of their own (docs/architecture.md), so a test hands them
the values a service would."""

from referrals.settings import Settings

DEFAULTS = Settings()
TIMEOUT = DEFAULTS.dependency_timeout
"""Seconds for connecting to, and each round trip with, the database or Redis."""
DATABASE = {
    "pool_size": DEFAULTS.db_pool_size,
    "timeout": DEFAULTS.dependency_timeout,
    "prepared_statements": not DEFAULTS.db_transaction_pooler,
}
"""What ``open_database`` takes besides the URL and the namespace."""
BROKER = {
    "queue": DEFAULTS.task_queue,
    "redelivery": DEFAULTS.broker_redelivery,
    "connect_timeout": DEFAULTS.dependency_timeout,
}
"""What ``build_broker`` takes besides the URL."""
