// Builds the alert emitter from driftwatch.yaml `alerts:`: which sinks exist, with secrets
// read from the environment variables the config names. A sink that is configured but
// missing its secret is a config error naming the variable.

import type { Producer } from 'kafkajs'
import type { Config } from '../config/schema.ts'
import { ConfigError } from '../lib/errors.ts'
import type { Logger } from '../lib/log.ts'
import { type AlertEmitter, createAlertEmitter } from './emitter.ts'
import { createPagerDutySender } from './pagerduty.ts'
import { createKafkaTriggerPublisher } from './rollback-trigger.ts'
import { createWebhookSender } from './webhook.ts'

export interface EmitterFromConfigOptions {
  config: Config
  env: NodeJS.ProcessEnv
  log: Logger
  /** A connected producer for rollback triggers; without it the Kafka sink is off. */
  producer?: Pick<Producer, 'send'>
}

export function createEmitterFromConfig({
  config,
  env,
  log,
  producer,
}: EmitterFromConfigOptions): AlertEmitter {
  const { alerts } = config
  let pagerduty: Parameters<typeof createAlertEmitter>[0]['pagerduty']
  if (alerts.pagerduty) {
    const routingKey = env[alerts.pagerduty.routing_key_env]
    if (!routingKey) {
      throw new ConfigError(`alerts.pagerduty is set but ${alerts.pagerduty.routing_key_env} is empty`, {
        fix: `export ${alerts.pagerduty.routing_key_env}=<Events API v2 integration key>, or remove alerts.pagerduty`,
      })
    }
    pagerduty = {
      routingKey,
      source: alerts.pagerduty.source,
      sender: createPagerDutySender({ url: alerts.pagerduty.url, env, log }),
    }
  }
  let webhook: Parameters<typeof createAlertEmitter>[0]['webhook']
  if (alerts.webhook) {
    const secret = env[alerts.webhook.secret_env]
    if (!secret) {
      throw new ConfigError(`alerts.webhook is set but ${alerts.webhook.secret_env} is empty`, {
        fix: `export ${alerts.webhook.secret_env}=<shared HMAC secret>, or remove alerts.webhook`,
      })
    }
    webhook = createWebhookSender({ url: alerts.webhook.url, secret, log })
  }
  const kafka =
    alerts.kafka && producer
      ? createKafkaTriggerPublisher({ producer, topic: config.kafka.rollback_topic, log })
      : undefined
  return createAlertEmitter({ pagerduty, webhook, kafka, log })
}
