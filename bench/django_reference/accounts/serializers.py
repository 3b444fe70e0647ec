from typing import Any

import phonenumbers
from django.conf import settings
from rest_framework import serializers

from accounts.models import User

LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class LoginSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=64)

    def validate_phone(self, value: str) -> str:
        try:
            number = phonenumbers.parse(value, settings.DEFAULT_REGION)
        except phonenumbers.NumberParseException as exc:
            raise serializers.ValidationError("Enter a valid phone number.") from exc
        if not phonenumbers.is_valid_number(number):
            raise serializers.ValidationError("Enter a valid phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class VerifySerializer(serializers.Serializer):
    confirm_code = serializers.RegexField(r"^\d{4}$")


class ApplyReferralSerializer(serializers.Serializer):
    used_referral_code = serializers.CharField(max_length=32)

    def validate_used_referral_code(self, value: str) -> str:
        return value.strip().upper().translate(LOOK_ALIKES)


class ProfileSerializer(serializers.ModelSerializer):
    """The profile with one page of referred users (``context["page"]``)."""

    used_referral_code = serializers.SerializerMethodField()
    invite_referral_code = serializers.CharField(source="invite_code", read_only=True)
    referred_users = serializers.SerializerMethodField()
    referred_users_count = serializers.SerializerMethodField()
    next_cursor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id",
            "phone",
            "used_referral_code",
            "invite_referral_code",
            "referred_users",
            "referred_users_count",
            "next_cursor",
        )

    def _page(self, user: User) -> tuple[list[str], str | None]:
        offset, limit = self.context.get("offset", 0), self.context.get("limit", 100)
        phones = list(
            user.referrals.order_by("referred_at", "id").values_list("phone", flat=True)[
                offset : offset + limit + 1
            ]
        )
        more = len(phones) > limit
        return phones[:limit], (str(offset + limit) if more else None)

    def to_representation(self, instance: User) -> Any:
        self._cached_page = self._page(instance)
        return super().to_representation(instance)

    def get_used_referral_code(self, user: User) -> str | None:
        referrer = user.used_referral_code
        return referrer.invite_code if referrer else None

    def get_referred_users(self, user: User) -> list[str]:
        return self._cached_page[0]

    def get_referred_users_count(self, user: User) -> int:
        return user.referrals.count()

    def get_next_cursor(self, user: User) -> str | None:
        return self._cached_page[1]
