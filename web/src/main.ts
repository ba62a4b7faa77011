// Entry: mounts the dashboard into #app (no inline script; the page's CSP allows 'self' only).
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app missing');

export default mount(App, { target });
