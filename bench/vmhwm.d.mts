/** Types of vmhwm.mjs (plain JavaScript, so that the preload peak-rss.mjs can run without tsx). */
export function peakRssMb(): number;
