import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import PhoneCode, User, generate_invite_code
from accounts.serializers import (
    ApplyReferralSerializer,
    LoginSerializer,
    ProfileSerializer,
    VerifySerializer,
)

logger = logging.getLogger(__name__)


def send_sms(phone: str, code: str) -> None:
    """The console "gateway": a real project would call an SMS provider (or Celery)."""
    if settings.SMS_DELAY:
        time.sleep(settings.SMS_DELAY)
    logger.info("SMS to %s: your code is %s", phone, code)


def profile_data(request: Request, user: User) -> Any:
    try:
        offset = int(request.query_params.get("cursor", 0))
        limit = min(max(int(request.query_params.get("limit", 100)), 1), 1000)
    except ValueError:
        offset, limit = 0, 100
    return ProfileSerializer(user, context={"offset": offset, "limit": limit}).data


class LoginView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone = serializer.validated_data["phone"]

        since = timezone.now() - timedelta(seconds=settings.RESEND_COOLDOWN)
        if PhoneCode.objects.filter(phone=phone, created_at__gte=since).exists():
            return Response(
                {"detail": "Wait before asking for a new code."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        # Only the latest code of a phone works.
        PhoneCode.objects.filter(phone=phone, is_used=False).update(is_used=True)
        phone_code = PhoneCode.objects.create(
            phone=phone,
            code=f"{secrets.randbelow(10_000):04d}",
            token=secrets.token_urlsafe(32),
        )
        send_sms(phone, phone_code.code)

        verify_path = reverse("verify", args=[phone_code.token]) + "/"
        data = {
            "user": {"phone": phone},
            "token": phone_code.token,
            "next_page": request.build_absolute_uri(verify_path),
            "expires_in": settings.CODE_TTL,
            "resend_after": round(settings.RESEND_COOLDOWN),
        }
        if settings.EXPOSE_CODES:
            data["confirm_code"] = phone_code.code
        return Response(data)


class VerifyView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request, token: str) -> Response:
        serializer = VerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data["confirm_code"]

        with transaction.atomic():
            phone_code = (
                PhoneCode.objects.select_for_update()
                .filter(
                    token=token,
                    is_used=False,
                    created_at__gte=timezone.now() - timedelta(seconds=settings.CODE_TTL),
                )
                .first()
            )
            if phone_code is None or phone_code.attempts >= settings.CODE_MAX_ATTEMPTS:
                return Response(
                    {"detail": "The code has expired; log in again."},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            if not constant_time_compare(phone_code.code, code):
                phone_code.attempts += 1
                phone_code.save(update_fields=["attempts"])
                return Response(
                    {"detail": "Wrong code.", "attempts_left": 5 - phone_code.attempts},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            phone_code.is_used = True
            phone_code.save(update_fields=["is_used"])
            user, created = User.objects.get_or_create(
                phone=phone_code.phone, defaults={"invite_code": generate_invite_code}
            )

        auth_token, _ = Token.objects.get_or_create(user=user)
        return Response(
            {
                "access_token": auth_token.key,
                "token_type": "Bearer",
                "expires_in": settings.SESSION_TTL,
                "is_new_user": created,
                "user": profile_data(request, user),
            }
        )


class ProfileView(APIView):
    def get(self, request: Request) -> Response:
        return Response(profile_data(request, request.user))

    def post(self, request: Request) -> Response:
        serializer = ApplyReferralSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data["used_referral_code"]

        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=request.user.pk)
            referrer = User.objects.filter(invite_code=code).first()
            if referrer is None:
                return Response(
                    {"detail": "No user has this code."}, status=status.HTTP_404_NOT_FOUND
                )
            if user.used_referral_code_id is not None:
                return Response(
                    {"detail": "You have already applied a code."},
                    status=status.HTTP_409_CONFLICT,
                )
            if referrer.pk == user.pk:
                return Response(
                    {"detail": "This is your own code."}, status=status.HTTP_409_CONFLICT
                )
            ancestor = referrer
            while ancestor.used_referral_code_id is not None:
                if ancestor.used_referral_code_id == user.pk:
                    return Response(
                        {"detail": "This code would close a referral cycle."},
                        status=status.HTTP_409_CONFLICT,
                    )
                ancestor = User.objects.get(pk=ancestor.used_referral_code_id)
            user.used_referral_code = referrer
            user.referred_at = timezone.now()
            user.save(update_fields=["used_referral_code", "referred_at"])
        return Response(profile_data(request, user))


class LogoutView(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return self.post(request)

    def post(self, request: Request) -> Response:
        if request.auth is not None:
            request.auth.delete()
        return Response({"detail": "Logged out."})


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
