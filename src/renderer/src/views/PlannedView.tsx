export function PlannedView({ label, planned }: { label: string; planned: string }) {
  return (
    <section className="view">
      <h1>{label}</h1>
      <p className="notice">This view is not built yet.</p>
      <p>What it will do: {planned}</p>
    </section>
  );
}
