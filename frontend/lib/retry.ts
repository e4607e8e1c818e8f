/**
 * Uploaded files kept in memory for this browser tab, by job id, so that a failed upload can be sent
 * again without choosing the file again. Lost on reload; the job page then asks for the file.
 */
const files = new Map<string, File>();

export function rememberUpload(jobId: string, file: File): void {
  files.set(jobId, file);
}

export function uploadFor(jobId: string): File | undefined {
  return files.get(jobId);
}
