/** A visible, announced error message. */
export function ErrorNotice({ error }: { error: { message: string } | string | null | undefined }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message;
  return (
    <p className="error-notice" role="alert">
      {message}
    </p>
  );
}
