/** `cdk synth` / `cdk deploy` entry point (see cdk.json). */
import { buildApp } from './main';

buildApp().app.synth();
