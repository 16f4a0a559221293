from django.contrib import admin
from django.urls import include, path
from shop import views

urlpatterns = [
    path("", views.index, name="index"),
    path("orders", views.place_order, name="place_order"),
    path("orders/<int:order_id>.json", views.order_status, name="order_status"),
    path("admin/", admin.site.urls),
    path("asynq/", include("asynq_django.urls")),
]
