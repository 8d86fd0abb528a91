"""Serializers shared by the API and the action table."""

from rest_framework import serializers


class ActionSerializer(serializers.Serializer):
    claim_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    item = serializers.IntegerField(required=False)
    message = serializers.CharField(required=False, allow_blank=True, default="")
