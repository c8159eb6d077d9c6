/**
 * Showing pictures to a trained network (`bloomsight apply`): conform each photo, make its partial
 * information as training did (from the export's metadata), translate with ONNX Runtime, and compose
 * the original beside the interpretation. Library code: the CLI and the demo call it.
 */
export { applyToImages, readImageSources, type AppliedImage } from './apply-images';
