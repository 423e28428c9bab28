from django.db import models


class ScaleProbe(models.Model):
    """A table in every client schema, for the length of the benchmark."""

    note = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.note
