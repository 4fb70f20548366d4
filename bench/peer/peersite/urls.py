from bare.views import bare_insert
from django.urls import include, path

urlpatterns = [
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
    path("bare/insert", bare_insert),
]
