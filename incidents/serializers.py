"""Request bodies of the incident actions (the action table and the API share them)."""

from rest_framework import serializers


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["acknowledge", "mitigate", "resolve", "void"])
    message = serializers.CharField(max_length=2000)
    at = serializers.DateTimeField(required=False, help_text="When it happened; defaults to now.")


class NoteSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000)
