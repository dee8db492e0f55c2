import { humanize } from "../lib/format";

interface EnumSelectProps<T extends string> {
  values: readonly T[];
  value: T | null;
  onChange: (value: T | null) => void;
  anyLabel: string;
  id?: string;
}

/** A filter over a schema enum: its values in words, after a first option that means any of them. */
export function EnumSelect<T extends string>({ values, value, onChange, anyLabel, id }: EnumSelectProps<T>) {
  return (
    <select id={id} value={value ?? ""} onChange={(e) => onChange((e.target.value || null) as T | null)}>
      <option value="">{anyLabel}</option>
      {values.map((v) => (
        <option key={v} value={v}>
          {humanize(v)}
        </option>
      ))}
    </select>
  );
}
