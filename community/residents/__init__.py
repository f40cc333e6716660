"""Resident-facing pages (mobile first): home, card on screen, linking an account to a household."""
