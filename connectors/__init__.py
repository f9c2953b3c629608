"""Everything that talks to the outside: one module per source system, reference data, MuniForce."""
