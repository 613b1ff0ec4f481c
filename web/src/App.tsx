import { useCallback, useEffect, useMemo, useState } from 'react';
import { useIsFetching, useQueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client.ts';
import { useOrgInfo, useOrgs } from './api/queries.ts';
import type { Scope } from './api/queries.ts';
import type { OrgInfo } from './api/types.ts';
import { SignIn } from './auth/SignIn.tsx';
import { clearSession, loadSession, saveSession } from './auth/session.ts';
import type { Session } from './auth/session.ts';
import { Controls } from './components/Controls.tsx';
import type { ViewState } from './components/Controls.tsx';
import { Overview } from './components/Overview.tsx';
import { ReportsPage } from './components/ReportsPage.tsx';
import { ActiveAlerts } from './components/ActiveAlerts.tsx';
import { ErrorState, Skeleton } from './components/Panel.tsx';
import { addLocalDays, computeRange, localDate } from './lib/time.ts';
import { readViewFromUrl, writeViewToUrl } from './lib/url-state.ts';

const AUTO_REFRESH_MS = 60_000;

function OrgSwitcher({ orgs, orgId, onSwitch }: { orgs: OrgInfo[]; orgId: string; onSwitch: (id: string) => void }) {
  return (
    <label className="org-switcher">
      <span className="sr-only">Organization</span>
      <select value={orgId} onChange={(e) => onSwitch(e.target.value)} data-testid="org-switcher">
        {orgs.map((org) => (
          <option key={org.id} value={org.id}>
            {org.name === org.id ? org.id : `${org.name} (${org.id})`}
          </option>
        ))}
      </select>
    </label>
  );
}

function Dashboard({ session, onSession, onSignOut }: { session: Session; onSession: (s: Session) => void; onSignOut: () => void }) {
  const queryClient = useQueryClient();
  const orgs = useOrgs(session.key);
  const listed = orgs.data?.find((org) => org.id === session.orgId);
  const orgInfo = useOrgInfo(session.key, listed || orgs.isPending ? '' : session.orgId);
  const orgSettled = listed !== undefined || orgInfo.isSuccess || orgInfo.isError;
  const orgZone = listed?.timezone ?? orgInfo.data?.timezone ?? 'UTC';

  const [now, setNow] = useState(() => Date.now());
  const [page, setPage] = useState<'dashboard' | 'reports'>('dashboard');
  const [view, setView] = useState<ViewState>(() => {
    const fromUrl = readViewFromUrl(window.location.search);
    return {
      preset: fromUrl.preset ?? '7d',
      custom: { from: fromUrl.from ?? '', to: fromUrl.to ?? '' },
      tz: fromUrl.tz ?? '',
      project: fromUrl.project ?? '',
      autoRefresh: fromUrl.autoRefresh ?? false,
      showAll: fromUrl.showAll ?? false,
    };
  });
  useEffect(() => {
    writeViewToUrl({ org: session.orgId, preset: view.preset, from: view.custom.from, to: view.custom.to, tz: view.tz, project: view.project, autoRefresh: view.autoRefresh, showAll: view.showAll });
  }, [session.orgId, view]);
  const tz = view.tz || orgZone;
  const today = localDate(now, tz);
  const custom = view.custom.from ? view.custom : { from: addLocalDays(today, -6), to: today };
  const range = useMemo(() => computeRange(view.preset, now, tz, custom), [view.preset, now, tz, custom.from, custom.to]);
  const scope: Scope = { apiKey: session.key, orgId: session.orgId, tz, project: view.project };
  const fetching = useIsFetching({ queryKey: ['org', session.orgId] }) > 0;

  const refresh = useCallback(() => {
    setNow(Date.now());
    void queryClient.invalidateQueries({ queryKey: ['org'] });
  }, [queryClient]);

  useEffect(() => {
    if (!view.autoRefresh) return;
    const timer = setInterval(refresh, AUTO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [view.autoRefresh, refresh]);

  const switchOrg = (orgId: string) => {
    onSession({ ...session, orgId });
    setView((v) => ({ ...v, tz: '', project: '' }));
  };

  let body;
  const listRefused = orgs.error instanceof ApiError && orgs.error.status === 403;
  if (orgs.isError && !listRefused) {
    body = <ErrorState what="the organizations" error={orgs.error} onRetry={() => void orgs.refetch()} testId="orgs-error" />;
  } else if (orgs.isSuccess && orgs.data.length === 0) {
    body = (
      <section className="panel" data-testid="no-orgs">
        <h2>No organizations yet</h2>
        <p>Create one with <code>meterboard org create</code> or <code>POST /api/v1/orgs</code>, then reload.</p>
      </section>
    );
  } else if (!orgSettled) {
    body = <Skeleton height={400} />;
  } else if (page === 'reports') {
    body = <ReportsPage key={session.orgId} scope={scope} />;
  } else {
    body = (
      <>
        <ActiveAlerts key={`alerts-${session.orgId}`} scope={scope} />
        <Controls
          view={{ ...view, tz, custom }}
          orgZone={orgZone}
          today={today}
          onChange={(next) => setView((v) => ({ ...v, ...next }))}
          onRefresh={refresh}
          refreshing={fetching}
        />
        <Overview
          key={session.orgId}
          scope={scope}
          range={range}
          now={now}
          today={today}
          showAll={view.showAll}
          onShowAll={(showAll) => setView((v) => ({ ...v, showAll }))}
        />
      </>
    );
  }

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">meterboard</span>
        {orgs.data && orgs.data.length > 1 ? (
          <OrgSwitcher orgs={orgs.data} orgId={session.orgId} onSwitch={switchOrg} />
        ) : (
          <span className="org-name" data-testid="org-name">{listed?.name ?? orgInfo.data?.name ?? session.orgId}</span>
        )}
        <nav className="page-tabs" aria-label="Pages">
          <button type="button" aria-pressed={page === 'dashboard'} onClick={() => setPage('dashboard')} data-testid="page-dashboard">
            Dashboard
          </button>
          <button type="button" aria-pressed={page === 'reports'} onClick={() => setPage('reports')} data-testid="page-reports">
            Reports
          </button>
        </nav>
        <span className="topbar-spacer" />
        <button type="button" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <main className="content">{body}</main>
    </div>
  );
}

export function App() {
  const queryClient = useQueryClient();
  // A shared link names its organization: an admin key opens it (a read key has only its own).
  const [session, setSession] = useState<Session | null>(() => {
    const saved = loadSession();
    const wanted = readViewFromUrl(window.location.search).org;
    return saved && wanted ? { ...saved, orgId: wanted } : saved;
  });

  const updateSession = (next: Session) => {
    saveSession(next);
    setSession(next);
  };
  const signOut = () => {
    clearSession();
    queryClient.clear();
    setSession(null);
  };

  if (!session) {
    return (
      <SignIn
        onSignedIn={(next, orgs) => {
          if (orgs.length > 0) queryClient.setQueryData(['orgs'], orgs);
          updateSession(next);
        }}
      />
    );
  }
  return <Dashboard session={session} onSession={updateSession} onSignOut={signOut} />;
}
