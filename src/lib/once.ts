/** An async iterable of a single chunk: a COPY of rows that are already joined into one piece. */
export async function* once<T>(chunk: T): AsyncGenerator<T> {
  yield chunk;
}
