"""Figures read from the recorded history: the policy backtest (and, later, the rollout
figures). Above escalations and policy: it reads both, neither reads it."""
