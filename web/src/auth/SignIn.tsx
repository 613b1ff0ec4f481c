import { useState } from 'react';
import type { FormEvent } from 'react';
import { lastOrgId, signIn } from './session.ts';
import { readViewFromUrl } from '../lib/url-state.ts';
import type { Session } from './session.ts';
import type { OrgInfo } from '../api/types.ts';

interface SignInProps {
  onSignedIn: (session: Session, orgs: OrgInfo[]) => void;
}

export function SignIn({ onSignedIn }: SignInProps) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const result = await signIn(key.trim(), readViewFromUrl(window.location.search).org ?? lastOrgId());
      onSignedIn(result.session, result.orgs);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} className="sign-in-card" data-testid="sign-in-form" aria-describedby="sign-in-help">
        <h1>meterboard</h1>
        <p id="sign-in-help" className="muted">
          Sign in with a read key (it belongs to one organization) or an admin key; the key alone is enough. It stays in this browser tab only.
        </p>
        <label htmlFor="sign-in-key">API key</label>
        <input
          id="sign-in-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
          data-testid="sign-in-key"
        />
        {error ? (
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy} data-testid="sign-in-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
