"""What every stage shares: constants, atomic writes, devices, the strict params loader, profiles."""
