import { PageError } from '../shared/errors';

/** Starts the camera into `video` and resolves once it shows frames. */
export async function startWebcam(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new PageError('camera-unavailable', 'this browser offers no camera here: pages need https or localhost to use the camera (open the page at http://127.0.0.1:<port>/ or serve it over https)');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 }, facingMode: 'user' }, audio: false });
  } catch (error) {
    throw cameraError(error as DOMException);
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    await new Promise<void>((resolve) => video.addEventListener('loadeddata', () => resolve(), { once: true }));
  }
  return stream;
}

function cameraError(error: DOMException): PageError {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new PageError('camera-permission', 'camera permission was denied: allow camera access for this page (the camera icon in the address bar) and reload');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new PageError('camera-missing', 'no camera found: connect a webcam and reload');
    case 'NotReadableError':
      return new PageError('camera-unavailable', 'the camera is busy or failed to start (another application may be using it)');
    default:
      return new PageError('camera-unavailable', `the camera could not be opened: ${error?.message ?? String(error)}`);
  }
}
