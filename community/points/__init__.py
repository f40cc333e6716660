"""The points ledger, versioned rule sets, rewards and redemptions (积分制)."""
