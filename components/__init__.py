"""Pulumi components of the BRAiN Core topology, one package per target (docker, eks)."""
