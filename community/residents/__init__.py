"""Resident-facing pages (mobile first): home, card on screen, joining a household, members."""
