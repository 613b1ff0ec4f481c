import { useEffect, useMemo, useState } from 'react';
import { PRESETS, timeZones } from '../lib/time.ts';
import type { CustomDates, Preset } from '../lib/time.ts';

export interface ViewState {
  preset: Preset;
  custom: CustomDates;
  tz: string;
  project: string;
  autoRefresh: boolean;
  /** Show metrics (cards, charts, table rows) that have no data in the range. */
  showAll: boolean;
}

interface ControlsProps {
  view: ViewState;
  orgZone: string;
  today: string;
  onChange: (next: Partial<ViewState>) => void;
  onRefresh: () => void;
  refreshing: boolean;
}

export function Controls({ view, orgZone, today, onChange, onRefresh, refreshing }: ControlsProps) {
  const [zoneSearch, setZoneSearch] = useState('');
  const allZones = useMemo(() => timeZones([orgZone, view.tz]), [orgZone, view.tz]);
  const zones = useMemo(() => {
    const needle = zoneSearch.trim().toLowerCase().replace(/\s+/g, '_');
    return needle === '' ? allZones : allZones.filter((zone) => zone === view.tz || zone.toLowerCase().includes(needle));
  }, [allZones, zoneSearch, view.tz]);
  const [from, setFrom] = useState(view.custom.from);
  const [to, setTo] = useState(view.custom.to);
  const [project, setProject] = useState(view.project);
  useEffect(() => setProject(view.project), [view.project]);

  const customError =
    !from || !to
      ? 'Pick both dates.'
      : from > to
        ? 'The start date is after the end date.'
        : to > today
          ? 'Dates in the future have no data.'
          : '';

  return (
    <div className="controls" data-testid="controls">
      <div className="control-group" role="group" aria-label="Time range">
        {PRESETS.map((preset) => (
          <button
            key={preset.id}
            type="button"
            className="segment"
            aria-pressed={view.preset === preset.id}
            onClick={() => onChange({ preset: preset.id })}
            data-testid={`preset-${preset.id}`}
          >
            {preset.label}
          </button>
        ))}
        <button
          type="button"
          className="segment"
          aria-pressed={view.preset === 'custom'}
          onClick={() => onChange({ preset: 'custom' })}
          data-testid="preset-custom"
        >
          Custom
        </button>
      </div>

      {view.preset === 'custom' ? (
        <form
          className="control-group custom-range"
          onSubmit={(event) => {
            event.preventDefault();
            if (!customError) onChange({ custom: { from, to } });
          }}
          data-testid="custom-range"
        >
          <label>
            From
            <input type="date" value={from} max={today} onChange={(e) => setFrom(e.target.value)} data-testid="custom-from" />
          </label>
          <label>
            To
            <input type="date" value={to} max={today} onChange={(e) => setTo(e.target.value)} data-testid="custom-to" />
          </label>
          <button type="submit" disabled={customError !== ''} data-testid="custom-apply">
            Apply
          </button>
          {customError ? (
            <span className="form-error" role="status">
              {customError}
            </span>
          ) : null}
        </form>
      ) : null}

      <label className="control-group">
        Time zone
        <input
          type="search"
          value={zoneSearch}
          placeholder="search, e.g. kolkata"
          aria-label="Search time zones"
          onChange={(e) => {
            setZoneSearch(e.target.value);
            const needle = e.target.value.trim().toLowerCase().replace(/\s+/g, '_');
            const matches = allZones.filter((zone) => zone.toLowerCase().includes(needle));
            if (needle !== '' && matches.length === 1) onChange({ tz: matches[0]! });
          }}
          data-testid="timezone-search"
          className="timezone-search"
        />
        <select value={view.tz} onChange={(e) => onChange({ tz: e.target.value })} data-testid="timezone-select">
          {zones.map((zone) => (
            <option key={zone} value={zone}>
              {zone === orgZone ? `${zone} (organization)` : zone}
            </option>
          ))}
        </select>
      </label>

      <form
        className="control-group"
        onSubmit={(event) => {
          event.preventDefault();
          onChange({ project: project.trim() });
        }}
      >
        <label>
          Project
          <input
            type="search"
            value={project}
            placeholder="all projects"
            onChange={(e) => setProject(e.target.value)}
            onBlur={() => project.trim() !== view.project && onChange({ project: project.trim() })}
            data-testid="project-filter"
          />
        </label>
      </form>

      <label className="control-group">
        Auto-refresh
        <select
          value={view.autoRefresh ? '60' : 'off'}
          onChange={(e) => onChange({ autoRefresh: e.target.value === '60' })}
          data-testid="auto-refresh"
        >
          <option value="off">Off</option>
          <option value="60">Every minute</option>
        </select>
      </label>

      <button type="button" onClick={onRefresh} disabled={refreshing} data-testid="refresh">
        {refreshing ? 'Refreshing…' : 'Refresh'}
      </button>
    </div>
  );
}
