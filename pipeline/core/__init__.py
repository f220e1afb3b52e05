"""What every stage shares: constants, atomic writes, devices, naming, the params schema, run facts."""
