"""Unit tests of the prod (eks) target under Pulumi mocks."""
