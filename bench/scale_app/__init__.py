"""A throwaway tenant app for bench/tenants_at_scale.py: one model, one migration, applied and rolled back."""
