# The embedded digits (scikit-learn's 1,797 real 8x8 scans, upsampled),
# shared by the three demo datasets: their pixel statistics, for every data
# preprocessor of the demos.
normalisation = dict(mean=[77.9] * 3, std=[82.6] * 3)
