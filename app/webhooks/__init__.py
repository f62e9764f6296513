"""Outbound webhooks (Standard Webhooks 1.0): other systems hear what happened to pickups."""
