"""Vet a whole dependency set: requirements files expanded into exact files to scan."""
