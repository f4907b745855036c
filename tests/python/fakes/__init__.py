"""Local fake vendor servers speaking the contracts in shared/api-specs (real HTTP on 127.0.0.1)."""
