"""The monitoring: column profiles, the drift tests, the model's quality metrics, the
performance-history rules, the retrain verdict, and the report and plots that show them."""
