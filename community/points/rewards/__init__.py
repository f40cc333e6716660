"""Rewards (积分兑换): a catalog per community, redemption from a resident's phone, hand-over
at the station by the pickup QR, and cancellation with a refund. Points move through the
ledger's `points.services`; the tables live in `points.models`."""
