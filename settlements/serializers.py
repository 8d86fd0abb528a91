"""Serializers shared by the API and the action table."""

from rest_framework import serializers

from .models import DocumentKind


class ActionSerializer(serializers.Serializer):
    claim_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    item = serializers.IntegerField(required=False)
    message = serializers.CharField(required=False, allow_blank=True, default="")


class IssueSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    claim = serializers.IntegerField(required=False)
    merchant = serializers.IntegerField(required=False)
    period = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
