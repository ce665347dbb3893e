// Offer alerts: an optional desktop notification and a short tone made with WebAudio (no sound files).
export function askPermission() {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
}

export function desktopNotice(title, body) {
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) new Notification(title, { body });
}

export function chime() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch {
    // No audio device (headless browsers): the visual offer is enough.
  }
}
