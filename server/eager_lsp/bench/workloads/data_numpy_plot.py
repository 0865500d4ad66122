# Signal analysis with numpy, plotted to a PNG file with matplotlib.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(0)
t = np.linspace(0, 10, 200_000)
signal = np.sin(2 * np.pi * 1.5 * t) + 0.5 * np.sin(2 * np.pi * 7 * t)
noisy = signal + rng.normal(0, 0.8, t.size)
spectrum = np.abs(np.fft.rfft(noisy))
freqs = np.fft.rfftfreq(t.size, d=t[1] - t[0])
peaks = freqs[np.argsort(spectrum)[-2:]]
print("dominant frequencies:", np.sort(peaks).round(2))
kernel = np.ones(501) / 501
smoothed = np.convolve(noisy, kernel, mode="same")
error = np.sqrt(np.mean((smoothed - signal) ** 2))
print("rms error after smoothing:", round(float(error), 3))
fig, axes = plt.subplots(2, 1, figsize=(8, 6))
axes[0].plot(t[:5000], noisy[:5000], lw=0.5, label="noisy")
axes[0].plot(t[:5000], smoothed[:5000], lw=1.5, label="smoothed")
axes[0].legend()
axes[1].semilogy(freqs[:2000], spectrum[:2000])
axes[1].set_xlabel("frequency (Hz)")
fig.savefig("signal.png", dpi=80)
plt.close(fig)
print("saved signal.png")
