/** A crash in rendering shows a way forward instead of a blank page. (React offers boundaries only as classes.) */
import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <main className="auth">
        <div className="card auth-card" role="alert">
          <h1>Something went wrong</h1>
          <p>The page hit an unexpected problem. Your saved tasks are safe.</p>
          <button type="button" className="primary" onClick={() => window.location.reload()}>
            Reload the page
          </button>
        </div>
      </main>
    );
  }
}
