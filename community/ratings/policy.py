"""Rating policy (pure): thresholds per level, evaluation with explanations, what is missing."""
