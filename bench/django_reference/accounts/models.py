import secrets
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def generate_invite_code() -> str:
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(6))
        if not User.objects.filter(invite_code=code).exists():
            return code


class UserManager(BaseUserManager["User"]):
    def create_user(self, phone: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(phone=phone, **extra)
        user.set_unusable_password()
        user.save(using=self._db)
        return user


class User(AbstractUser):
    """A person who logged in with their phone; ``username`` is the phone."""

    username = None  # type: ignore[assignment]
    phone = models.CharField(max_length=16, unique=True)
    invite_code = models.CharField(max_length=6, unique=True)
    used_referral_code = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    referred_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.phone


class PhoneCode(models.Model):
    """A login: the one-time code sent to a phone, and the token to verify it."""

    token = models.CharField(max_length=64, unique=True)
    phone = models.CharField(max_length=16, db_index=True)
    code = models.CharField(max_length=8)
    attempts = models.PositiveSmallIntegerField(default=0)
    is_used = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.phone} ({self.created_at})"
