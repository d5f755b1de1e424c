"""Models: base-model resolution, the Classifier, training, baseline, calibration."""
