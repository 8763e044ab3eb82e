/**
 * A plain <select>: Semi's Select renders a custom combobox that fails axe (unnamed inputs,
 * unlabelled icons), so simple choices use the browser's own control, styled to match.
 */
export function NativeSelect<V extends string | number>({ id, label, value, options, onChange, placeholder }: { id?: string; label?: string; value: V | undefined; options: { value: V; label: string }[]; onChange(v: V | undefined): void; placeholder?: string }) {
  return (
    <select
      id={id}
      aria-label={id ? undefined : label}
      className="native-select"
      value={value === undefined ? '' : String(value)}
      onChange={(e) => {
        const hit = options.find((o) => String(o.value) === e.target.value);
        onChange(hit?.value);
      }}
    >
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {options.map((o) => (
        <option key={String(o.value)} value={String(o.value)}>
          {o.label}
        </option>
      ))}
    </select>
  );
}
