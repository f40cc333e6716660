"""A steward's wallet (积分银行): their own points spent on their community's rewards, through
the same redemption machinery as a household's (points.rewards)."""
