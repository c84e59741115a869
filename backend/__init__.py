"""BRAiN Core's reference backend: the dev stack's default image and the live tests' backend.

`python -m backend` starts it; `backend/settings.py` lists the environment it reads.
"""
