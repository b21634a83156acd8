// Entry point: styles, the app, and resuming a session kept in the HttpOnly cookie.
import { render } from 'preact';
import { App } from './app.js';
import { restore } from './auth.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
void restore();
