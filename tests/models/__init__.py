"""Tests of srmri.models."""
