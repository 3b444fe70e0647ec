"""Every API path answers with and without the trailing slash, like the product."""

from accounts import views
from django.contrib import admin
from django.urls import path, re_path

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^api/login/?$", views.LoginView.as_view(), name="login"),
    re_path(r"^api/verify/(?P<token>[\w-]+)/?$", views.VerifyView.as_view(), name="verify"),
    re_path(r"^api/profile/?$", views.ProfileView.as_view(), name="profile"),
    re_path(r"^api/logout/?$", views.LogoutView.as_view(), name="logout"),
    path("health", views.health, name="health"),
]
