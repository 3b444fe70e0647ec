from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token auth, spelled ``Authorization: Bearer <token>`` like the product."""

    keyword = "Bearer"
