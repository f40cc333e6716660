"""Households (户), the resident accounts linked to them, and their QR cards."""
