from django.db import models


class BareRow(models.Model):
    """The bare view's table: the same columns as direkte's ``bench_rows``."""

    note = models.CharField(max_length=100)
    created_at = models.DateTimeField()
